"""The conversation as data, the same on every surface (Slack, Teams, …).

A surface turns what a person did into a **command** (``commands.py``; typed words through
the one parser in ``words.py``), hands it to ``dispatch`` (``dispatcher.py``), and renders the
**reply** it gets back (``replies.py``) with its own templates. Nothing here imports a chat
SDK: what the program decides is decided here once, so the surfaces cannot drift apart.
"""

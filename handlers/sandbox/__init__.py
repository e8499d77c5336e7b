"""The browser sandbox: the program played in a browser, one person at a time.

The conversation layer's third surface, beside Slack and Teams: typed words go through
``bot.conversation.words``, buttons and forms through ``bot.conversation.clicks``, every
command through the one dispatcher; what the services queue reaches sandbox people through
the outbox dispatcher and ``SandboxMessenger``. A local, single-user tool with no sign-in:
it only ever listens on a loopback address (``Settings.sandbox_active``). See
``docs/sandbox.md``.
"""

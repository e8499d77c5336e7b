"""What every door checks in a decoded JSON body before the bot reads it.

JSON can carry a lone surrogate (``"\\ud800"``) that UTF-8, and so every database driver,
cannot: such text reached a query and failed there, with a traceback. Neither Slack nor
Teams ever sends one, so a body that has one is refused at the door (400).
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(node: Any) -> bool:
    """Does any key or string anywhere in ``node`` hold a lone surrogate?"""
    if isinstance(node, str):
        return _SURROGATE.search(node) is not None
    if isinstance(node, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in node.items())
    if isinstance(node, list):
        return any(has_lone_surrogate(v) for v in node)
    return False

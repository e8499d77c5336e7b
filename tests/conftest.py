"""Suite-wide settings: the hypothesis profiles.

``ci`` (the default) is bounded and derandomized, so a run on CI is quick and repeatable;
``long`` is for a local hunt: ``pytest --hypothesis-profile=long tests/integration/fuzz``.
Tests that name their own ``max_examples`` keep it under either profile.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "long", max_examples=400, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile("ci")

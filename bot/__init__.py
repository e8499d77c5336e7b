"""advocate-bot: a customer reference program inside Slack and Microsoft Teams."""

__version__ = "0.1.0"

"""The Microsoft Teams front end (botbuilder stays inside this package)."""

"""Slack: the Web API messenger now; Bolt listeners, modals and App Home with the Slack front end."""

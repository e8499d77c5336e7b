"""Slack: the Web API messenger; Bolt listeners, modals and App Home come with the front end."""

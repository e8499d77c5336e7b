"""Everything that knows a chat platform or HTTP: Slack, Teams and the web server."""

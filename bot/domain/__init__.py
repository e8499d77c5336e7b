"""Pure domain: data, rules and state machines. No I/O, no SDKs, no SQLAlchemy."""

"""Use cases. Each takes an actor and a unit of work; none imports an SDK or SQLAlchemy."""

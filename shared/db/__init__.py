"""PostgreSQL access shared by both services: the pool's lifespan and the migration runner."""

"""The HTTP layer: FastAPI app factory, middleware, error mapping, routers. Calls services only."""

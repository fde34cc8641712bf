"""Run the goals api: python -m goals.api [--host H] [--port P]"""

from shared.entrypoints import serve_api

if __name__ == "__main__":
    serve_api("goals.app:create_app", default_port=8001)

"""Run the scoring api: python -m scoring.api [--host H] [--port P]"""

from shared.entrypoints import serve_api

if __name__ == "__main__":
    serve_api("scoring.app:create_app", default_port=8002)

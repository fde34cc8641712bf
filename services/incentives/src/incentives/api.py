"""Run the incentives api: python -m incentives.api [--host H] [--port P]"""

from shared.entrypoints import serve_api

if __name__ == "__main__":
    serve_api("incentives.app:create_app", default_port=8003)

"""WSGI entry point: `gunicorn mcu.wsgi:app`."""

from mcu.app import create_app

app = create_app()

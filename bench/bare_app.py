"""The baseline: a bare Flask app with one JSON endpoint, served by the same gunicorn settings."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/echo")
def echo():
    body = request.get_json()
    return jsonify(received=len(body.get("text", ""))), 201

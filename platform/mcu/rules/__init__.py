"""Escalation rules: compiled from the tenant's YAML and the shared sets in rules/escalation/,
matched by durable-rules (engine.py, the only module that imports it), applied by actions.py in
the transaction of the event that triggered them, fired on time by worker.py."""

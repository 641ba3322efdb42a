"""The district staff's workspace in the web UI: inbox, message card, emergencies board, users and
the audit log. Views are thin: reads come from `queries`, changes from the operations layers."""

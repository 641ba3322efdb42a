"""Messages: обращения and сообщения from every channel, their lifecycle and event log."""

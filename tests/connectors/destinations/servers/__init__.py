"""Real protocol servers on 127.0.0.1 for the destination tests.

Each speaks its provider's protocol over real sockets, validates requests the way the
provider does, records what it accepted (with arrival times) and can be scripted to fail:
throttle, error, hold its answer (for timeouts) or drop the connection.
"""

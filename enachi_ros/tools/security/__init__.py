"""``enachi security``: the fleet's keystore (``create``) and its command line (``cli``)."""

"""The g1bench OpenEnv server, as OpenEnv's tools expect to find it (``server.app:app``)."""

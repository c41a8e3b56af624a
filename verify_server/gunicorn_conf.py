"""gunicorn settings for the verifier started by hand (``ocop-stamps serve`` sets the same itself):

    OCOP_STAMPS_HOME=/srv/ocop gunicorn -c python:verify_server.gunicorn_conf --workers 5 verify_server.wsgi:app

The worker answers requests gunicorn cannot parse with the verifier's own page and security headers and logs no
client address (verify_server.gunicorn_worker); the access log format has no address either.
"""

from verify_server.serve import GUNICORN_SETTINGS

globals().update(GUNICORN_SETTINGS)

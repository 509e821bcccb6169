"""Webhook receiver (no Dagster): verified deliveries from Shopify, Contentful and other
systems, stored in the catalog database's queue before they are acknowledged.

``config`` reads the endpoints' secrets and limits from the environment (the variables
are listed there), ``signatures`` checks HMACs and shared secrets, ``app`` is the ASGI
app and ``cli`` the ``structr webhooks serve`` command.
"""

"""The device authorization grant (RFC 8628): the endpoint a device asks, the page a person approves on."""

"""WhatsApp Cloud API: the only package that knows Graph's formats and error codes.

- ``messages``: what Herald sends and the ``CloudApi`` interface;
- ``client``: ``CloudApiClient``, the real API over HTTP (aiohttp);
- ``sandbox``: ``Sandbox``, a simulated API in-process (``samples``, ``simulate``);
- ``parameters``: a template's Graph ``components`` for one contact;
- ``webhook``: signature check and typed events from Meta's webhook bodies;
- ``errors``: delivery error families by Graph code, failure titles.

Import the module you need: importing this package loads none of them.
"""

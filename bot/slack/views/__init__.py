"""Block Kit views: pure functions from answers and broadcast views to message bodies.

blocks      Slack's limits as constants, and elements that never exceed them
broadcast   the preview with Confirm / Cancel, what a click did
funnel      the live funnel message (and ``broadcast show``)
stats       ``/stats`` and the daily digest
answers     any answer of the command layer → ``{"text", "blocks"}``
"""

"""The Slack face: slash commands, buttons, mentions and DMs in; funnels, alerts and digests out.

    app.mount(app, herald)       /slack/events on the aiohttp app (bolt), plus connect()
    outbound.connect(herald)     the notifier (live funnels, alerts) and the digest job
    listeners.SlackFace          what each command, click and message does
    people.People                admins and each user's timezone (users.info, cached)
    funnels.LiveFunnels          one message per broadcast, edited as it goes
    notifier.SlackNotifier       the engine's Notifier, handing work to the Slack loop
    digest.DigestJob             the daily digest, once a day among any number of schedulers
    chart.week_chart             the week's funnel as a PNG
    client                       the Web API client (429-aware) and the loop that calls it
    views                        Block Kit, pure

Imported only when ``SLACK_BOT_TOKEN`` and ``SLACK_SIGNING_SECRET`` are set.
"""

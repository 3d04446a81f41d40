"""What every chat face shares: the command layer, conversations, answers and their wording.

    commands.CommandHandler     a Command (or command text) and a Request → an Answer
    people.PeopleCommands       its contact and sequence half
    lookups.Lookups             its read-only half: things found by what people call them
    conversation.Conversation   mentions, DMs and the shell: interpret with the last turn in mind
    answers                     the face-neutral answer objects
    access.needs_admin          who may do what
    messages                    every sentence the faces say beyond the grammar's
    text.render                 an Answer as plain text (the shell)

Slack renders the same answers as Block Kit (``bot.slack.views``).
"""

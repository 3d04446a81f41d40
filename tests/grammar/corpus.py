"""The shared corpus: what people type to Herald, and what each phrasing must be read as.

Several phrasings per intent, with typos, odd case, politeness and emoji. The
grammar tests read each one with ``interpret`` (``test_corpus.py``); the command
layer runs each one through a conversation on a real database and checks the
kind of answer and that nothing changed without a yes
(``tests/faces/test_corpus.py``); ``bench/parser.py`` times them. Grow it
whenever a phrase is misread: add the phrase with what it should have meant.

The world they are read in: Mon 30 Nov 2026 10:14 in Asia/Kolkata; templates
promo_autumn, promo_winter (pending), order_update, welcome_offer; tags vip,
gold, new; sequences onboarding and "Spring Welcome"; broadcast 1 "Diwali
promo" (sending) and 2 "Autumn sale" (scheduled); contacts Asha Rao
+919812345678 and Priya Iyer +919812345679.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.grammar import (
    BroadcastAction,
    BroadcastFind,
    BroadcastList,
    Chitchat,
    Command,
    ContactAdd,
    ContactCount,
    ContactFind,
    ContactList,
    ContactOptOut,
    ContactShow,
    ContactTag,
    ContactUntag,
    EnrollmentList,
    Help,
    SequenceAction,
    SequenceEnroll,
    SequenceList,
    TemplateList,
    TemplateSync,
    Vocabulary,
)
from bot.grammar import Cancel as No
from bot.grammar import Confirm as Yes

KOLKATA = "Asia/Kolkata"
NOW = datetime(2026, 11, 30, 10, 14, tzinfo=ZoneInfo(KOLKATA))
VOCABULARY = Vocabulary.of(
    templates=["promo_autumn", "promo_winter", "order_update", "welcome_offer"],
    tags=["vip", "gold", "new"],
    sequences=["onboarding", "Spring Welcome"],
)
ASHA = "+919812345678"
PRIYA = "+919812345679"
NEW = "+919812345699"


@dataclass(frozen=True)
class Is:
    """Read as exactly this command (a read, or a formal command)."""

    command: Command


@dataclass(frozen=True)
class Proposes:
    """A change shown back for a yes: a Question with ``confirm`` and this one choice."""

    command: Command


@dataclass(frozen=True)
class Creates:
    """A broadcast to preview: template, tags, and when (``now``, ``draft``, or the local
    time and zone it is read as, ``Tue 2026-12-01 09:00 Asia/Kolkata``).
    """

    template: str
    tags: tuple[str, ...]
    when: str


@dataclass(frozen=True)
class Stats:
    """Stats for the period labelled ``label``."""

    label: str


@dataclass(frozen=True)
class Asks:
    """A question back: for the ``missing`` piece (``template``, ``tags``, ``time``, ``phone``,
    ``sequence``, ``broadcast``), or with ``choices`` to pick from.
    """

    missing: str | None = None
    choices: int = 0


@dataclass(frozen=True)
class Refuses:
    """Refused with a message holding ``words``."""

    words: str


Expect = Is | Proposes | Creates | Stats | Asks | Refuses

CORPUS: list[tuple[str, Expect]] = [
    # --- broadcasts: list, by status ---------------------------------------------------------
    ("list broadcasts", Is(BroadcastList())),
    ("show all broadcasts", Is(BroadcastList())),
    ("Broadcasts", Is(BroadcastList())),
    ("list campaigns pls", Is(BroadcastList())),
    ("what broadcasts do we have?", Is(BroadcastList())),
    ("shwo me the brodcasts 🙏", Is(BroadcastList())),
    ("which broadcasts are scheduled", Is(BroadcastList("scheduled"))),
    ("show me scheduled broadcasts", Is(BroadcastList("scheduled"))),
    ("What's scheduled?", Is(BroadcastList("scheduled"))),
    ("anything scheduled?", Is(BroadcastList("scheduled"))),
    ("any broadcasts running right now?", Is(BroadcastList("sending"))),
    ("what's sending right now", Is(BroadcastList("sending"))),
    ("drafts", Is(BroadcastList("draft"))),
    ("show draft broadcasts", Is(BroadcastList("draft"))),
    ("paused campaigns", Is(BroadcastList("paused"))),
    # --- broadcasts: one, by number ----------------------------------------------------------
    ("show me broadcast 1", Is(BroadcastAction("show", 1))),
    ("show broadcast #1", Is(BroadcastAction("show", 1))),
    ("open broadcast 1", Is(BroadcastAction("show", 1))),
    ("details of broadcast 2", Is(BroadcastAction("show", 2))),
    ("what's the status of broadcast 1", Is(BroadcastAction("show", 1))),
    ("broadcast 2 status", Is(BroadcastAction("show", 2))),
    ("status of #2?", Is(BroadcastAction("show", 2))),
    ("is broadcast 1 done?", Is(BroadcastAction("show", 1))),
    ("how did broadcast 1 do", Is(BroadcastAction("stats", 1))),
    ("how's #1 doing?", Is(BroadcastAction("stats", 1))),
    ("stats for broadcast 1", Is(BroadcastAction("stats", 1))),
    ("broadcast show 1", Is(BroadcastAction("show", 1))),
    # --- broadcasts: by name, fuzzy ----------------------------------------------------------
    ("how is the diwali promo doing?", Is(BroadcastFind("diwali promo"))),
    ("how did the diwali one go", Is(BroadcastFind("diwali"))),
    ("diwali promo stats", Is(BroadcastFind("diwali promo"))),
    ("How's the Diwali Promo going??", Is(BroadcastFind("diwali promo"))),
    ("numbers for the autumn sale", Is(BroadcastFind("autumn sale"))),
    ("status of the autumn sale", Is(BroadcastFind("autumn sale", action="show"))),
    ("is the diwali promo finished?", Is(BroadcastFind("diwali promo", action="show"))),
    ("how did promo_autumn do", Is(BroadcastFind("promo_autumn"))),
    # --- broadcasts: changes -----------------------------------------------------------------
    ("send broadcast 2", Is(BroadcastAction("send", 2))),
    ("send #2 now", Is(BroadcastAction("send", 2))),
    ("pause broadcast 1", Proposes(BroadcastAction("pause", 1))),
    ("pause #1 please", Proposes(BroadcastAction("pause", 1))),
    ("halt campaign 1", Proposes(BroadcastAction("pause", 1))),
    ("resume broadcast 1", Proposes(BroadcastAction("resume", 1))),
    ("unpause 1", Proposes(BroadcastAction("resume", 1))),
    ("cancel broadcast 2 🙏", Proposes(BroadcastAction("cancel", 2))),
    ("kill campaign 2", Proposes(BroadcastAction("cancel", 2))),
    ("Cancel Broadcast #2 please", Proposes(BroadcastAction("cancel", 2))),
    ("pause the diwali promo", Is(BroadcastFind("diwali promo", action="pause"))),
    ("resume the diwali one", Is(BroadcastFind("diwali", action="resume"))),
    ("cancel the autumn sale", Is(BroadcastFind("autumn sale", action="cancel"))),
    ("stop broadcast 1", Asks(choices=2)),
    ("stop the diwali promo", Asks(choices=2)),
    ("pause the broadcast", Asks(missing="broadcast")),
    ("cancel a campaign", Asks(missing="broadcast")),
    ("broadcast cancel 2", Is(BroadcastAction("cancel", 2))),  # formal: as it always was
    # --- broadcasts: new ones ----------------------------------------------------------------
    ("send promo_autumn to vip tomorrow at 9", Creates("promo_autumn", ("vip",), "Tue 2026-12-01 09:00 IST")),
    (
        "Please send promo_autumn to vip and gold at 6pm, thanks!",
        Creates("promo_autumn", ("vip", "gold"), "Mon 2026-11-30 18:00 IST"),
    ),
    ("SEND PROMO_AUTUMN TO VIP NOW", Creates("promo_autumn", ("vip",), "now")),
    ("send promo_autumn to vip", Creates("promo_autumn", ("vip",), "now")),
    ("send welcome offer to new as a draft", Creates("welcome_offer", ("new",), "draft")),
    ("draft order_update for gold", Creates("order_update", ("gold",), "draft")),
    (
        "blast promo_autumn to everyone tagged vip in 2 hours",
        Creates("promo_autumn", ("vip",), "Mon 2026-11-30 12:14 IST"),
    ),
    (
        "schedule order_update for gold on friday at 10am",
        Creates("order_update", ("gold",), "Fri 2026-12-04 10:00 IST"),
    ),
    (
        "send promo_autumn to vip at 9am IST tomorrow",
        Creates("promo_autumn", ("vip",), "Tue 2026-12-01 09:00 IST"),
    ),
    (
        "send promo_autumn to vip tomorrow at 9am ist",
        Creates("promo_autumn", ("vip",), "Tue 2026-12-01 09:00 IST"),
    ),
    (
        "schedule promo_autumn for gold on friday at 10am CET",
        Creates("promo_autumn", ("gold",), "Fri 2026-12-04 10:00 CET"),
    ),
    (
        "send promo_autumn to vip at 18:30 Europe/Berlin",
        Creates("promo_autumn", ("vip",), "Mon 2026-11-30 18:30 CET"),
    ),
    (
        "send promo_autumn to vip tomorrow 9am New York time",
        Creates("promo_autumn", ("vip",), "Mon 2026-11-30 09:00 EST"),
    ),
    (
        "send promo_autumn to vip 9am london time tomorrow",
        Creates("promo_autumn", ("vip",), "Tue 2026-12-01 09:00 GMT"),
    ),
    (
        "send promo_autumn to vip tomorrow 9am PST",
        Creates("promo_autumn", ("vip",), "Mon 2026-11-30 09:00 PST"),
    ),
    (
        "send promo_autumn to vip tomorrow 9am sgt",
        Creates("promo_autumn", ("vip",), "Tue 2026-12-01 09:00 +08"),
    ),
    (
        "send promo_autumn to vip tomorrow 9am in dubai",
        Creates("promo_autumn", ("vip",), "Tue 2026-12-01 09:00 +04"),
    ),
    ("send promo_autumn to vip tomorrow 9am CST", Asks(choices=2)),
    ("send promo_autumn to vip tomorrow 9am AST", Asks(choices=2)),
    ("send promo_autumn to vip tomorrow 9am EDT", Asks(choices=1)),  # EDT in winter: New York time?
    ("send promo_autumn to vip at 9am gotham time", Refuses("I don't know which timezone `gotham` is in")),
    ("send promo_autumn", Asks(missing="tags")),
    ("send to gold tomorrow 9am", Asks(missing="template")),
    ("send a broadcast to vip now", Asks(missing="template")),
    ("schedule promo_autumn for vip", Asks(missing="time")),
    ("send promo to vip", Asks(choices=2)),
    ("send promo_autum to vip", Asks(choices=1)),
    ("send promo_autumn to vpi", Refuses("No contact has the tag `vpi`")),
    ("send promo_autumn to vip at 9am", Refuses("9am today has passed")),
    (
        "broadcast promo_autumn tags:vip at 9am IST tomorrow",
        Creates("promo_autumn", ("vip",), "Tue 2026-12-01 09:00 IST"),
    ),
    # --- sequences ---------------------------------------------------------------------------
    ("list sequences", Is(SequenceList())),
    ("list my sequences", Is(SequenceList())),
    ("show my drips", Is(SequenceList())),
    ("what sequences do we have", Is(SequenceList())),
    ("sequnces", Is(SequenceList())),
    ("which sequences are running", Is(SequenceList("active"))),
    ("which sequences are active?", Is(SequenceList("active"))),
    ("paused sequences", Is(SequenceList("paused"))),
    ("show the onboarding sequence", Is(SequenceAction("show", "onboarding"))),
    ("how is onboarding doing", Is(SequenceAction("show", "onboarding"))),
    ("how's the spring welcome sequence going?", Is(SequenceAction("show", "Spring Welcome"))),
    ("status of the onboarding sequence", Is(SequenceAction("show", "onboarding"))),
    ("sequence show onboarding", Is(SequenceAction("show", "onboarding"))),
    ("pause onboarding sequence", Proposes(SequenceAction("pause", "onboarding"))),
    ("turn off the onboarding drip", Proposes(SequenceAction("pause", "onboarding"))),
    ("activate the spring sequence", Proposes(SequenceAction("activate", "Spring Welcome"))),
    ("resume onboarding", Proposes(SequenceAction("activate", "onboarding"))),
    ("start drip onboarding", Proposes(SequenceAction("activate", "onboarding"))),
    ("pause a sequence", Asks(missing="sequence")),
    # --- enrollments -------------------------------------------------------------------------
    ("enroll +919812345678 in onboarding", Proposes(SequenceEnroll("onboarding", ASHA))),
    ("please enrol +91 98123 45678 into spring welcome", Proposes(SequenceEnroll("Spring Welcome", ASHA))),
    ("add +919812345678 to the onboarding sequence", Proposes(SequenceEnroll("onboarding", ASHA))),
    ("sign up +919812345678 for onboarding", Proposes(SequenceEnroll("onboarding", ASHA))),
    ("put +919812345678 in onboarding", Proposes(SequenceEnroll("onboarding", ASHA))),
    ("Enroll +91-98123-45678 in Onboarding pls", Proposes(SequenceEnroll("onboarding", ASHA))),
    ("enroll +919812345678", Asks(missing="sequence")),
    ("enroll someone in onboarding", Asks(missing="phone")),
    ("enroll +919812345678 in onbording", Refuses("Did you mean `onboarding`?")),
    ("enroll +919812345678 in zzz", Refuses("There is no sequence `zzz`")),
    ("sequence enroll onboarding +919812345678", Is(SequenceEnroll("onboarding", ASHA))),
    ("enrollments of +919812345678", Is(EnrollmentList(ASHA))),
    ("show enrollments for +91 98123 45678", Is(EnrollmentList(ASHA))),
    ("what sequences is +919812345678 in?", Is(EnrollmentList(ASHA))),
    ("is +919812345678 enrolled in onboarding?", Is(EnrollmentList(ASHA, "onboarding"))),
    ("who is enrolled in onboarding", Is(SequenceAction("show", "onboarding"))),
    ("how many are enrolled in onboarding", Is(SequenceAction("show", "onboarding"))),
    ("enrollments", Asks(missing="phone")),
    # --- contacts: changes -------------------------------------------------------------------
    (
        "add contact +919812345699 named Priya tagged vip",
        Proposes(ContactAdd(NEW, name="Priya", tags=("vip",))),
    ),
    (
        "add +91 98123 45699 as Priya with tags vip and gold",
        Proposes(ContactAdd(NEW, name="Priya", tags=("vip", "gold"))),
    ),
    ("new contact +919812345699", Proposes(ContactAdd(NEW))),
    ("save +919812345699 as Priya Sharma", Proposes(ContactAdd(NEW, name="Priya Sharma"))),
    ("add a contact named Priya", Asks(missing="phone")),
    ("tag +919812345678 as vip", Proposes(ContactTag(ASHA, ("vip",)))),
    ("tag +91 98123 45678 with gold", Proposes(ContactTag(ASHA, ("gold",)))),
    ("Tag +919812345678 VIP and Gold", Proposes(ContactTag(ASHA, ("vip", "gold")))),
    ("add +919812345678 to vip", Proposes(ContactTag(ASHA, ("vip",)))),
    ("tag +919812345678", Asks(missing="tags")),
    ("tag someone as vip", Asks(missing="phone")),
    ("untag +919812345678 gold", Proposes(ContactUntag(ASHA, ("gold",)))),
    ("remove gold from +919812345678", Proposes(ContactUntag(ASHA, ("gold",)))),
    ("take vip off +919812345678", Proposes(ContactUntag(ASHA, ("vip",)))),
    ("opt out +919812345678", Proposes(ContactOptOut(ASHA))),
    ("unsubscribe +91 98123 45678", Proposes(ContactOptOut(ASHA))),
    ("opt-out +919812345678 please", Proposes(ContactOptOut(ASHA))),
    ("stop messaging +919812345678", Proposes(ContactOptOut(ASHA))),
    ("opt out", Asks(missing="phone")),
    ("opt out 9812345678", Refuses("has no country code")),
    ("contacts tag +919812345678 gold", Is(ContactTag(ASHA, ("gold",)))),
    # --- contacts: reads ---------------------------------------------------------------------
    ("who is +919812345678", Is(ContactShow(ASHA))),
    ("who's +91 98123 45678?", Is(ContactShow(ASHA))),
    ("look up +919812345678", Is(ContactShow(ASHA))),
    ("find +919812345679", Is(ContactShow(PRIYA))),
    ("who is Asha", Is(ContactFind("Asha"))),
    ("find contact Priya", Is(ContactFind("Priya"))),
    ("search for priya", Is(ContactFind("priya"))),
    ("how many contacts do we have", Is(ContactCount(()))),
    ("how many contacts are tagged vip", Is(ContactCount(("vip",)))),
    ("how many vip contacts", Is(ContactCount(("vip",)))),
    ("how many people have the gold tag", Is(ContactCount(("gold",)))),
    ("count vip contacts", Is(ContactCount(("vip",)))),
    ("contacts count tags:vip", Is(ContactCount(("vip",)))),
    ("show contacts tagged vip", Is(ContactList(("vip",)))),
    ("list vip contacts", Is(ContactList(("vip",)))),
    ("contacts tagged gold", Is(ContactList(("gold",)))),
    ("who is tagged vip", Is(ContactList(("vip",)))),
    ("contacts", Is(ContactList(()))),
    ("show contacts", Is(ContactList(()))),
    # --- templates ---------------------------------------------------------------------------
    ("templates", Is(TemplateList())),
    ("list templates", Is(TemplateList())),
    ("show me all the templates", Is(TemplateList())),
    ("templtes", Is(TemplateList())),
    ("which templates are approved", Is(TemplateList("APPROVED"))),
    ("approved templates", Is(TemplateList("APPROVED"))),
    ("pending templates", Is(TemplateList("PENDING"))),
    ("how many templates are approved", Is(TemplateList("APPROVED"))),
    ("is promo_winter approved?", Is(TemplateList(name="promo_winter"))),
    ("show template promo_winter", Is(TemplateList(name="promo_winter"))),
    ("sync templates", Proposes(TemplateSync())),
    ("refresh the templates please", Proposes(TemplateSync())),
    ("templates list", Is(TemplateList())),
    # --- stats -------------------------------------------------------------------------------
    ("stats", Stats("today")),
    ("stats today", Stats("today")),
    ("stats yesterday", Stats("yesterday")),
    ("stats for the last 7 days", Stats("7d")),
    ("stats last 30 days", Stats("30d")),
    ("stats over the past 2 weeks", Stats("14d")),
    ("stats this week", Stats("this week")),
    ("stats last week", Stats("last week")),
    ("stats this month", Stats("this month")),
    ("stats last month", Stats("October 2026")),
    ("stats from 1 nov to 15 nov", Stats("2026-11-01 – 2026-11-15")),
    ("stats between 2026-11-01 and 2026-11-15", Stats("2026-11-01 – 2026-11-15")),
    ("numbers for november", Stats("November 2026")),
    ("stats for 25 nov", Stats("2026-11-25")),
    ("how did we do yesterday", Stats("yesterday")),
    ("how are we doing today?", Stats("today")),
    ("how did things go last week", Stats("last week")),
    ("how was last month", Stats("October 2026")),
    ("give me the stats for this week", Stats("this week")),
    ("stast for yesterday", Stats("yesterday")),
    ("stats from 15 nov to 1 nov", Refuses("ends before it starts")),
    # --- help, yes and no --------------------------------------------------------------------
    ("help", Is(Help())),
    ("what can you do?", Is(Help())),
    ("how do I schedule a broadcast?", Is(Help("broadcast"))),
    ("help with contacts", Is(Help("contacts"))),
    ("yes", Is(Yes())),
    ("yes please", Is(Yes())),
    ("👍", Is(Yes())),
    ("go ahead", Is(Yes())),
    ("no", Is(No())),
    ("nah", Is(No())),
    ("never mind", Is(No())),
    # --- grown from phrasings first misread (keep adding) -------------------------------------
    ("can you show me the list of broadcasts?", Is(BroadcastList())),
    ("show the last 5 broadcasts", Is(BroadcastList())),
    ("what campaigns are live right now", Is(BroadcastList("sending"))),
    ("what's going out tomorrow?", Is(BroadcastList("scheduled"))),
    ("give me an update on broadcast 2", Is(BroadcastAction("show", 2))),
    ("any update on the autumn sale?", Is(BroadcastFind("autumn sale", action="show"))),
    ("how did the last broadcast do", Is(BroadcastFind("latest"))),
    ("what's the delivery rate for the diwali promo", Is(BroadcastFind("diwali promo"))),
    ("send the autumn sale now", Is(BroadcastFind("autumn sale", action="send"))),
    ("resume sending the diwali promo", Is(BroadcastFind("diwali promo", action="resume"))),
    ("hold the diwali promo", Is(BroadcastFind("diwali promo", action="pause"))),
    ("push the autumn sale to friday 10am", Refuses("Chat cannot move a broadcast")),
    ("how many messages did we send today", Stats("today")),
    ("how many got delivered yesterday", Stats("yesterday")),
    ("what's our read rate this week", Stats("this week")),
    ("hey, which campaigns went out yesterday?", Stats("yesterday")),
    ("i need the numbers for last week please", Stats("last week")),
    ("report for october", Stats("October 2026")),
    ("stats 1st nov - 7th nov", Stats("2026-11-01 – 2026-11-07")),
    ("numbers from monday to wednesday", Stats("2026-11-23 – 2026-11-25")),
    ("how did we do this morning", Stats("today")),
    ("weekly report", Stats("7d")),
    ("monthly stats", Stats("30d")),
    ("what templates can I use?", Is(TemplateList("APPROVED"))),
    ("do we have a diwali template?", Is(TemplateList(name="diwali"))),
    ("which template is pending approval", Is(TemplateList("PENDING"))),
    ("when will promo_winter be approved", Is(TemplateList(name="promo_winter"))),
    ("show me approved templates only", Is(TemplateList("APPROVED"))),
    ("list all my contacts with the gold tag", Is(ContactList(("gold",)))),
    ("show me everyone tagged new", Is(ContactList(("new",)))),
    ("who are my vip customers", Is(ContactList(("vip",)))),
    ("how many people opted out?", Is(ContactCount(()))),
    ("is +919812345678 opted in?", Is(ContactShow(ASHA))),
    ("whats the status of +919812345678", Is(ContactShow(ASHA))),
    ("does +919812345679 exist?", Is(ContactShow(PRIYA))),
    ("which sequence is asha in", Is(ContactFind("asha"))),
    ("add tag gold to +919812345678", Proposes(ContactTag(ASHA, ("gold",)))),
    ("give +919812345678 the vip tag", Proposes(ContactTag(ASHA, ("vip",)))),
    ("mark +919812345678 as vip", Proposes(ContactTag(ASHA, ("vip",)))),
    ("please add the number +919812345699 to gold", Proposes(ContactTag(NEW, ("gold",)))),
    ("remove the gold tag from +919812345678", Proposes(ContactUntag(ASHA, ("gold",)))),
    ("+919812345678 wants to stop getting messages", Proposes(ContactOptOut(ASHA))),
    ("unsubscribe priya", Asks(missing="phone")),
    ("delete +919812345678", Refuses("Chat cannot delete a contact")),
    ("take +919812345678 out of onboarding", Refuses("Chat cannot take a contact out of `onboarding`")),
    ("enroll asha in onboarding", Asks(missing="phone")),
    ("start onboarding for +919812345679", Proposes(SequenceEnroll("onboarding", PRIYA))),
    ("which drips are paused?", Is(SequenceList("paused"))),
    ("switch on onboarding", Proposes(SequenceAction("activate", "onboarding"))),
    ("turn the onboarding sequence back on", Proposes(SequenceAction("activate", "onboarding"))),
    ("is onboarding active?", Is(SequenceAction("show", "onboarding"))),
    ("how many people finished onboarding", Is(SequenceAction("show", "onboarding"))),
    ("show me the steps of onboarding", Is(SequenceAction("show", "onboarding"))),
    ("tomorrow at 9am IST", Asks(missing="template")),
    ("send promo_autumn vip tomorrow 9am", Creates("promo_autumn", ("vip",), "Tue 2026-12-01 09:00 IST")),
    (
        "set up a broadcast of welcome_offer for new at 10am tomorrow",
        Creates("welcome_offer", ("new",), "Tue 2026-12-01 10:00 IST"),
    ),
    (
        "schedule promo_autumn to vip for 5pm EST tomorrow",
        Creates("promo_autumn", ("vip",), "Mon 2026-11-30 17:00 EST"),
    ),
    ("did broadcast 1 finish?", Is(BroadcastAction("stats", 1))),
    ("give me the funnel for broadcast 1", Is(BroadcastAction("stats", 1))),
    ("how many failed in broadcast 1", Is(BroadcastAction("stats", 1))),
    ("what's the open rate on broadcast 2", Is(BroadcastAction("stats", 2))),
    ("How many people got the autumn sale?", Is(BroadcastFind("autumn sale"))),
    ("show me what's scheduled for this week", Is(BroadcastList("scheduled"))),
    ("Can I see all the broadcasts from this week?", Stats("this week")),
    ("what did we send last friday?", Stats("2026-11-27")),
    ("what were the numbers yesterday", Stats("yesterday")),
    ("how did this week compare to last week", Stats("this week")),
    ("give me a summary of the last 30 days", Stats("30d")),
    ("cancel #2 it was a mistake", Proposes(BroadcastAction("cancel", 2))),
    ("stop the autumn sale for now", Asks(choices=2)),
    ("pause it", Asks(missing="broadcast")),
    ("resume", Asks(missing="broadcast")),
    ("cancel everything", Asks(missing="broadcast")),
    ("pause every sequence", Asks(missing="sequence")),
    ("what's in the onboarding sequence", Is(SequenceAction("show", "onboarding"))),
    ("sign +919812345699 up for the spring welcome journey", Proposes(SequenceEnroll("Spring Welcome", NEW))),
    ("is asha a vip?", Is(ContactFind("asha"))),
    ("find the contact with number +919812345679", Is(ContactShow(PRIYA))),
    (
        "add new contact +919812345699, name Ravi, tags gold",
        Proposes(ContactAdd(NEW, name="Ravi", tags=("gold",))),
    ),
    ("opt +919812345678 out", Proposes(ContactOptOut(ASHA))),
    ("set +919812345679 as opted out", Proposes(ContactOptOut(PRIYA))),
    ("what templates have been rejected?", Is(TemplateList("REJECTED"))),
    (
        "send promo_autumn to vip on the 5th at 9",
        Creates("promo_autumn", ("vip",), "Sat 2026-12-05 09:00 IST"),
    ),
    (
        "send welcome_offer to new tomorrow at 10 in the morning",
        Creates("welcome_offer", ("new",), "Tue 2026-12-01 10:00 IST"),
    ),
    ("draft a broadcast of promo_autumn for vip", Creates("promo_autumn", ("vip",), "draft")),
    ("help me send a broadcast", Is(Help("broadcast"))),
    ("what can I ask you?", Is(Help())),
    ("nope, cancel that", Is(No())),
    ("what's currently going out?", Is(BroadcastList("sending"))),
    ("any drafts I haven't sent?", Is(BroadcastList("draft"))),
    ("how many were read in broadcast 1", Is(BroadcastAction("stats", 1))),
    ("kill the autumn sale", Is(BroadcastFind("autumn sale", action="cancel"))),
    ("restart broadcast 1", Proposes(BroadcastAction("resume", 1))),
    (
        "send promo_autumn to vip at 9am pacific time tomorrow",
        Creates("promo_autumn", ("vip",), "Mon 2026-11-30 09:00 PST"),
    ),
    ("could you send welcome_offer to new right away", Creates("welcome_offer", ("new",), "now")),
    ("what's the enrollment count for onboarding", Is(SequenceAction("show", "onboarding"))),
    ("untag gold from +919812345679", Proposes(ContactUntag(PRIYA, ("gold",)))),
    ("+919812345679 should be vip", Proposes(ContactTag(PRIYA, ("vip",)))),
    ("templates that are approved", Is(TemplateList("APPROVED"))),
    ("delivery numbers for last week", Stats("last week")),
    ("sync", Proposes(TemplateSync())),
    ("hi", Is(Chitchat("hello"))),
    ("thanks!", Is(Chitchat("thanks"))),
    ("what's the weather", Refuses("I didn't understand that")),
    ("make it 10am instead", Refuses("There is no broadcast to change yet")),
]

"""iCalendar invitations (RFC 5545, sent as iMIP per RFC 6047) made with the `icalendar` library.

One stable UID per meeting, so that each later REQUEST updates the same calendar entry and a
CANCEL removes it; SEQUENCE comes from the meeting and rises with every change that a calendar
shows. Times are local to the group (TZID=Europe/London) with the VTIMEZONE that defines it, so
a summer meeting is at +01:00 and a winter one at +00:00 whatever the reader's zone.
"""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event, vCalAddress, vText

from mailproc.outbound.catalogue import MeetingView
from mailproc.outbound.compose import CalendarPart

PRODID = "-//mailproc//meetings//EN"


def meeting_uid(meeting: MeetingView, domain: str) -> str:
    return f"meeting-{meeting.id}@{domain}"


def invitation(
    meeting: MeetingView, organizer: tuple[str, str], attendee: str, domain: str, stamp: datetime, method: str
) -> CalendarPart:
    """The calendar object for one recipient: REQUEST (invite or update) or CANCEL."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    event = Event()
    event.add("uid", meeting_uid(meeting, domain))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", meeting.start)
    event.add("dtend", meeting.end)
    event.add("summary", meeting.title)
    if meeting.location:
        event.add("location", meeting.location)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    name, address = organizer
    event.add("organizer", _address(address, name))
    person = _address(attendee, "")
    person.params["ROLE"] = vText("REQ-PARTICIPANT")
    person.params["RSVP"] = vText("FALSE")
    event.add("attendee", person)
    cal.add_component(event)
    cal.add_missing_timezones()
    return CalendarPart(method=method, ics=cal.to_ical().decode("utf-8"))


def _address(address: str, name: str) -> vCalAddress:
    value = vCalAddress(f"mailto:{address}")
    if name:
        value.params["CN"] = vText(name)
    return value

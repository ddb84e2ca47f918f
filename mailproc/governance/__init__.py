"""The group's governance work: meetings, the published register, reports, reminders."""

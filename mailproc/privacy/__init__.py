"""Patient-identifiable data: the pure detector and redactor, findings at intake, retention."""

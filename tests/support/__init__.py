"""The one home of the helpers test files share; test files never import from each other.

    net          free_port, wait_until, wait_for_greeting
    imapserver   ImapTestServer: Dovecot or pymap on loopback (deliver, count, message_ids;
                 with Dovecot also logins, kick, set_uidvalidity)
    smtpserver   SmtpTestServer: aiosmtpd on loopback, recording what it accepts
    mail         make_message and other raw mail builders, varied_message, read_email
    workspace    Workspace (the real CLI, start, receive, sent, rows, year), make_workspace,
                 intake_tables and imap_workspace (the test servers as mailbox and SMTP relay),
                 triage (apply commands as `mailproc triage` does)
    triagedesk   Desk: triage by reply through real servers, replies as mail clients write them
    cursors      MemoryCursor, a CursorStore in memory
    pid_samples  labelled texts with and without patient identifiers
    corpus       the shared corpus directory and the benchmark scripts that read it

Fixtures (servers, workspaces, desks, database URLs) live in tests/conftest.py and the
conftest_imap.py and conftest_smtp.py modules it gathers.
"""

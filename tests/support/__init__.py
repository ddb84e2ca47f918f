"""The one home of the helpers test files share; test files never import from each other.

    net          free_port, wait_until, wait_for_greeting
    imapserver   ImapTestServer: Dovecot or pymap on loopback (deliver, count, message_ids)
    smtpserver   SmtpTestServer: aiosmtpd on loopback, recording what it accepts
    mail         make_message and other raw mail builders, varied_message, read_email
    workspace    Workspace (config, CLI, Maildir in and out), make_workspace, imap_workspace,
                 triage (apply commands as `mailproc triage` does)
    triagedesk   Desk: triage by reply through real servers, replies as mail clients write them
    cursors      MemoryCursor, a CursorStore in memory
    pid_samples  labelled texts with and without patient identifiers
    corpus       the shared corpus directory and the benchmark scripts that read it

Fixtures (servers, workspaces, desks, database URLs) live in tests/conftest.py.
"""

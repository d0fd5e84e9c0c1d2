"""Sending by e-mail (smsc-api.md §5.9): an SMTP listener whose mails are send.php requests."""

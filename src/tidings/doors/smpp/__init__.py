"""The SMPP 3.4 server SMS Center clients (Kannel, Jasmin, their own ESMEs) bind to: binds
checked like API logins, submit_sm sent through send.php's service, receipts back as
deliver_sm. The PDU codec is the upstream client's (channels/smpp/pdu.py)."""

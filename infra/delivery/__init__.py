"""Delivering the notifications outbox: channels (e-mail over SMTP, the staff inbox) and the
dispatcher that fans notifications out to people and sends them, at least once, never twice."""

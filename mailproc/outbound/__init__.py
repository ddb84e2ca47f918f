"""Outbound mail: the one send gate, the catalogue of emails, render, compose, outbox, delivery."""

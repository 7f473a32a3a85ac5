"""Reminders and notifications: what falls due (``occasions``), in which words
(``messages``), the exactly-once ``ledger``, the pass that plans, records, claims and sends
(``dispatch``), the delivery ``channels`` and the in-app ``inbox``; ``settings`` reads
``[notify]``. Modules import downwards only: settings <- ledger <- occasions <- messages <-
dispatch; channels needs only settings.

Import the module you need (``from duban.core.notify.dispatch import run_pass``): this
package imports nothing itself, so reading one part does not load the others.
"""

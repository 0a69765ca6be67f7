"""The tickets domain's errors: each a stable code, an HTTP status and the rule it names."""

from __future__ import annotations

from hotline.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound


class TicketNotFound(NotFound):
    code = "ticket-not-found"
    title = "No such ticket"


class TicketTransitionRefused(InvalidTransition):
    code = "ticket-transition-refused"
    title = "The ticket's current state does not allow this"


class NoteRequired(InvalidInput):
    code = "ticket-note-required"
    title = "This step needs a note"


class UnitRequired(InvalidInput):
    code = "ticket-unit-required"
    title = "Choose a department or work area"


class InactiveUnit(InvalidInput):
    code = "ticket-unit-inactive"
    title = "Tickets cannot be dispatched to an inactive department"


class ResultRequired(InvalidInput):
    code = "ticket-result-required"
    title = "A ticket is completed with its result"


class AuditByProcessor(Conflict):
    code = "ticket-audit-by-processor"
    title = "The processor who did the work cannot audit it"


class ResultNotTold(Conflict):
    code = "ticket-result-not-told"
    title = "The customer must be told the result before the complaint is closed"


class InvalidFieldValue(InvalidInput):
    code = "ticket-field-invalid"
    title = "A custom field's value breaks its rule"


class NotAComplaint(InvalidInput):
    code = "ticket-not-a-complaint"
    title = "Only complaints have this"


class NotAMember(Conflict):
    code = "ticket-not-unit-member"
    title = "That person is not on the staff of the department"

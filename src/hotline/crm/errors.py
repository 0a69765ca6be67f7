from __future__ import annotations

from hotline.core.errors import Conflict


class IdNumberTaken(Conflict):
    code = "id-number-taken"
    title = "Another customer has this ID number"


class PhoneTaken(Conflict):
    code = "phone-taken"
    title = "The customer has this number already"

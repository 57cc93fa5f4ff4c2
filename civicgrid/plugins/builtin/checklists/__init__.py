"""Checklists: what an inspection module (fire safety, food safety, ...) shares.

A plain library, not a plugin: no app, no tables of its own. A module uses it so:

1. Models. Subclass the abstract models in ``checklists.models`` and add the links
   only the module knows::

       class CheckItem(ChecklistItemBase):          # one line of a checklist
           kind = models.CharField(...)              # what the checklist is for

       class Inspection(InspectionBase):            # one visit by a grid worker
           unit = models.ForeignKey(MyUnit, ...)     # what was inspected
           # (a Meta of your own: ``class Meta(InspectionBase.Meta)``, to keep the key's constraint)

       class ItemResult(ItemResultBase):            # one answer of the visit
           inspection = models.ForeignKey(Inspection, related_name="results", ...)
           item = models.ForeignKey(CheckItem, on_delete=models.PROTECT, ...)

   ``InspectionBase`` carries ``client_key`` (the device's key, unique per inspector
   for non-empty keys), ``inspected_by``, ``inspected_at``, the position and the
   ``outcome``; ``ItemResultBase`` the answer (pass / fail / not applicable), a note,
   the stored photo, and the item's text and category code as they were that day.

2. Reading what was sent. ``services.read_submission(items, data, files)`` takes the
   checklist's items and a request's ``POST``/``FILES`` (or a DRF request's ``data``
   and ``FILES``): every item answered as ``item-<id>`` = ``pass|fail|na``, a note
   in ``item-<id>-note``, a photo in ``item-<id>-photo`` for every failed item,
   ``latitude``/``longitude`` in range, no NUL bytes. Photos are checked and re-encoded
   through ``civicgrid.platform.files.uploads.clean_upload``. It returns a
   ``Submission`` or raises ``ValidationError`` with messages per field (the same
   field names, so a form and the phone's script can show them in place).

3. Storing it once. ``services.client_key(request)`` reads the device's key from the
   ``Idempotency-Key`` header or a ``client_key`` field. Inside your action's
   ``transaction.atomic()``, ``services.record_once(Inspection, inspector=user,
   client_key=key, create=...)`` returns ``(inspection, True)`` after running
   ``create()`` (make the inspection, ``services.store_results(...)``, report cases,
   ``meter(...)``) or ``(earlier, False)`` when this inspector sent this key before --
   also when the same key arrives twice at the same moment. Nothing in ``create`` runs
   twice, so a repeated offline submission makes one inspection, one case per failed
   item, and is metered once.

4. The phone page. Include ``plugins/checklists/_phone_form.html`` in a page that
   extends ``console/worker/base.html``, with ``items`` (the checklist), ``endpoint``
   (where the phone's script posts, answering JSON), ``action`` (where the form posts
   without script) and optionally ``errors`` and ``hidden`` (extra fields). The form
   is marked ``data-offline-form``: the worker app's script keeps it in IndexedDB and
   sends it with an ``Idempotency-Key`` until a 2xx, like a report. The endpoint
   answers 201/200 with ``{"message", "url"}`` and 400 with ``{"errors": {field:
   [messages]}}``.

5. What follows. ``follow_up.FollowUp(finding=..., owner=..., report=...)`` describes the
   module's findings (a failed item of a unit or a business, with its case) and how it
   reports a case; in ``create``, ``FOLLOW_UP.lock(owner)`` first (two inspections of one
   owner at once take turns), then ``FOLLOW_UP.after_inspection(...)`` applies the one set
   of rules (rectify and close or note on pass; on fail note "still failing", reopen a case
   closed lately, or report a new one). The module's ``civicgrid_case_transitioned`` hook
   calls ``follow_up.close_when_handled(event, FOLLOW_UP)``; its photo views answer with
   ``photos.photo_response(row)`` after their own scope check.
"""

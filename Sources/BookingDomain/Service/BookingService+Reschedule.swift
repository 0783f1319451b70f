import Foundation
import Logging

extension BookingService {
    /// Moves an appointment to another slot: the same id and cancel token, ``Appointment/sequence`` up by
    /// one, and a `rescheduled` notification, all in one transaction of the store. The pending reminders
    /// of the old slot become obsolete and the new slot gets one per ``Schedule/reminderLeads`` whose
    /// moment is still ahead (also when the old one's was already sent), in the same transaction.
    ///
    /// `authorization` is the admin or the appointment's cancel token; an unknown id throws
    /// ``BookingError/Code/notFound``, a wrong token ``BookingError/Code/forbidden``. The new slot must be one the schedule offers now
    /// (``BookingError/Code/slotNotOffered``, checked like a booking); its occupied interval may overlap
    /// the appointment's own current one (moving 10:00 to 10:30 with buffers) but no other booked one
    /// (``BookingError/Code/slotUnavailable``, nothing changed). A cancelled appointment throws
    /// ``BookingError/Code/appointmentCancelled``. A move to the slot the appointment already holds
    /// changes nothing and returns it. The new slot's capacity and limits apply as to a booking, without
    /// counting the appointment itself (a move within one day never counts twice), and a slot someone
    /// holds is ``BookingError/Code/slotHeld``.
    ///
    /// With an idempotency key, a retry of the same request (same appointment, same slot) returns the
    /// appointment as it is now, with ``RescheduleConfirmation/replayed`` set, and moves nothing; the same
    /// key with another appointment or slot is ``BookingError/Code/idempotencyKeyReused``. Only the key's
    /// SHA-256 is stored, apart from booking keys, and keys never expire.
    public func reschedule(
        id: Int64, to slot: TimeSlot, authorization: Authorization, idempotencyKey: String? = nil
    ) async throws(BookingError) -> RescheduleConfirmation {
        if let idempotencyKey, let problem = BookingRequest.idempotencyKeyProblem(idempotencyKey) {
            throw .invalidInput(field: "idempotencyKey", problem)
        }
        _ = try TimeSlot.supported(start: slot.start, end: slot.end)
        let record = try await authorizedRecord(id: id, authorization)
        let fingerprint = Self.rescheduleFingerprint(id: id, slot: slot)
        let storedKey = idempotencyKey.map(AppointmentRecord.storedIdempotencyKey(for:))
        if let storedKey, let existing = try await store.rescheduleRecord(idempotencyKey: storedKey) {
            return try replay(existing, fingerprint: fingerprint)
        }
        guard record.appointment.status == .booked else { throw .appointmentCancelled }
        let schedule = try schedule(for: record.appointment.resource)
        let now = try clock.checkedNow().roundedToMilliseconds
        // Staying in the slot it holds needs no offer, but a concurrent move may have taken it elsewhere
        // meanwhile: then the store refuses, so a move never lands in a slot the schedule does not offer.
        var onlyIfAlreadyThere = false
        do {
            try schedule.checkOffered(slot, now: now)
        } catch  where slot == record.appointment.slot {
            onlyIfAlreadyThere = true
        }
        let outcome = try await store.reschedule(
            AppointmentMove(
                appointmentID: id, slot: slot, occupied: schedule.occupiedInterval(of: slot), idempotencyKey: storedKey,
                requestFingerprint: fingerprint, now: now, onlyIfAlreadyThere: onlyIfAlreadyThere,
                reminders: ScheduledReminder.due(leads: schedule.reminderLeads, before: slot.start, now: now),
                rules: schedule.rules(for: slot)))
        switch outcome {
        case nil:
            throw .notFound("appointment")
        case .moved(let appointment)?:
            logger.debug(
                "rescheduled appointment",
                metadata: ["appointment.id": "\(id)", "appointment.sequence": "\(appointment.sequence)"])
            return RescheduleConfirmation(appointment: appointment, replayed: false)
        case .unchanged(let appointment)?:
            return RescheduleConfirmation(appointment: appointment, replayed: false)
        case .existing(let existing)?:
            return try replay(existing, fingerprint: fingerprint)
        }
    }

    /// The earlier reschedule with the same key again, if it was this very request.
    private func replay(_ record: RescheduleRecord, fingerprint: String) throws(BookingError) -> RescheduleConfirmation
    {
        // The fingerprint names the appointment, so a key never hands one appointment to another's token holder.
        guard record.requestFingerprint == fingerprint else { throw .idempotencyKeyReused }
        return RescheduleConfirmation(appointment: record.appointment, replayed: true)
    }

    /// Hex SHA-256 of the canonical reschedule request: the appointment and the target slot in milliseconds.
    static func rescheduleFingerprint(id: Int64, slot: TimeSlot) -> String {
        let fields = [
            "reschedule", String(id), String(slot.start.millisecondsSince1970), String(slot.end.millisecondsSince1970),
        ]
        return SecretToken.sha256Hex(fields.map { "\($0.utf8.count):\($0)" }.joined())
    }
}

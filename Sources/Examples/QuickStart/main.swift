import BookingDomain
import Foundation
import InMemoryStore

// The smallest program that uses swift-booking: book a slot, list, move the booking to another slot, cancel it.
let service = BookingService(store: InMemoryStore())

let slots = try await service.availability()
guard slots.count >= 3 else {
    print("fewer than three free slots in the next 7 days")
    exit(1)
}
// Not the first slot: it may begin before the booking reaches the store, and a slot begun is no longer offered.
let (slot, later) = (slots[1].slot, slots[2].slot)

let booking = try await service.book(
    BookingRequest(slotStart: slot.start, slotEnd: slot.end, name: "Ada Lovelace", email: "ada@example.com"))
print("booked #\(booking.appointment.id) at \(booking.appointment.slot.start)")

for appointment in try await service.appointments() {
    print("#\(appointment.id) \(appointment.status) \(appointment.slot.start)")
}

// The holder of the cancel token (or the admin) moves it to another offered slot; the key makes a retry safe.
let token = Authorization.cancelToken(booking.cancelToken ?? "")
let moved = try await service.reschedule(
    id: booking.appointment.id, to: later, authorization: token, idempotencyKey: "5b1c")
print("#\(moved.appointment.id) now at \(moved.appointment.slot.start), sequence \(moved.appointment.sequence)")

let cancelled = try await service.cancel(id: booking.appointment.id, authorization: token).appointment
print(
    "#\(cancelled.id) is \(cancelled.status); its slot is free again: \(try await service.availability().contains { $0.slot == later })"
)

import BookingDomain
import Foundation
import InMemoryStore

// The smallest program that uses swift-booking: book, list and cancel a slot.
let service = BookingService(store: InMemoryStore())

let slots = try await service.availability()
guard let slot = slots.first?.slot else {
    print("no free slot in the next 7 days")
    exit(1)
}

let booking = try await service.book(
    BookingRequest(slotStart: slot.start, slotEnd: slot.end, name: "Ada Lovelace", email: "ada@example.com"))
print("booked #\(booking.appointment.id) at \(booking.appointment.slot.start)")

for appointment in try await service.appointments() {
    print("#\(appointment.id) \(appointment.status) \(appointment.slot.start)")
}

let cancelled = try await service.cancel(
    id: booking.appointment.id, authorization: .cancelToken(booking.cancelToken ?? "")
).appointment
print(
    "#\(cancelled.id) is \(cancelled.status); the slot is free again: \(try await service.availability().first?.slot == slot)"
)

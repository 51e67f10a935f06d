package dev.xatm.client.it.jpa.orders;

import org.springframework.data.jpa.repository.JpaRepository;

/** Spring Data JPA repository of the PostgreSQL persistence unit. */
public interface OrderNotes extends JpaRepository<OrderNote, Long> {
}

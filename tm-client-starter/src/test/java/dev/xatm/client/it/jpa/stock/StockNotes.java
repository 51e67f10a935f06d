package dev.xatm.client.it.jpa.stock;

import org.springframework.data.jpa.repository.JpaRepository;

/** Spring Data JPA repository of the MariaDB persistence unit. */
public interface StockNotes extends JpaRepository<StockNote, Long> {
}

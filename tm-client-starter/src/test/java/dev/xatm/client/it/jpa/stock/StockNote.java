package dev.xatm.client.it.jpa.stock;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** A row of the MariaDB persistence unit ({@code jpa_note} is renamed to the test's table). */
@Entity
@Table(name = "jpa_note")
public class StockNote {
    @Id
    private Long id;
    private String note;

    protected StockNote() {
    }

    public StockNote(long id, String note) {
        this.id = id;
        this.note = note;
    }

    public Long getId() {
        return id;
    }
}

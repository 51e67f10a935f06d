package dev.xatm.client.it.jpa.orders;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** A row of the PostgreSQL persistence unit ({@code jpa_note} is renamed to the test's table). */
@Entity
@Table(name = "jpa_note")
public class OrderNote {
    @Id
    private Long id;
    private String note;

    protected OrderNote() {
    }

    public OrderNote(long id, String note) {
        this.id = id;
        this.note = note;
    }

    public Long getId() {
        return id;
    }
}

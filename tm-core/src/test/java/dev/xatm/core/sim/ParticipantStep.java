package dev.xatm.core.sim;

import dev.xatm.core.participant.ParticipantEffects;
import dev.xatm.core.participant.ParticipantEvent;

/** One step of a participant core: the real {@code Participant::step}, or a planted bug wrapped around it. */
@FunctionalInterface
interface ParticipantStep {
    ParticipantEffects step(ParticipantEvent e);
}

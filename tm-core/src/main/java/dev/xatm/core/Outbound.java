package dev.xatm.core;

/** A phase command for the agent that holds one branch. Fire and forget: the core resends until answered. */
public record Outbound(String agentId, String gtrid, String bqual, Action action) {}

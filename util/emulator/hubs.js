'use strict';
// Connections, users and groups of each hub.
//
// A connection's group memberships are kept on the connection and in the
// hub's group index. Adding a *user* to a group adds the user's current
// connections and, for the membership's lifetime (ttl, default one year),
// every connection the user opens later. Expired user memberships are
// removed lazily, whenever the hub is looked up.

const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

const HUB_NAME = /^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$/;

class Hub {
  constructor() {
    this.connections = new Map(); // id -> connection
    this.groups = new Map();      // group -> Set(connection)
    this.userGroups = new Map();  // user -> Map(group -> expiry in ms)
  }

  add(conn) {
    this.connections.set(conn.id, conn);
    const memberships = this.userGroups.get(conn.userId);
    if (memberships) for (const group of memberships.keys()) this.join(conn, group);
  }

  remove(conn) {
    for (const group of [...conn.groups]) this.leave(conn, group);
    this.connections.delete(conn.id);
  }

  userConnections(user) {
    return [...this.connections.values()].filter((c) => c.userId === user);
  }

  groupConnections(group) {
    return [...(this.groups.get(group) || [])];
  }

  join(conn, group) {
    conn.groups.add(group);
    if (!this.groups.has(group)) this.groups.set(group, new Set());
    this.groups.get(group).add(conn);
  }

  leave(conn, group) {
    conn.groups.delete(group);
    const members = this.groups.get(group);
    if (!members) return;
    members.delete(conn);
    if (members.size === 0) this.groups.delete(group);
  }

  // ttl in seconds; undefined = one year; 0 = current connections only.
  addUserToGroup(user, group, ttl, now = Date.now()) {
    for (const conn of this.userConnections(user)) this.join(conn, group);
    if (ttl === 0) return;
    if (!this.userGroups.has(user)) this.userGroups.set(user, new Map());
    this.userGroups.get(user).set(group, now + (ttl === undefined ? ONE_YEAR_MS : ttl * 1000));
  }

  removeUserFromGroup(user, group) {
    const memberships = this.userGroups.get(user);
    if (memberships) {
      memberships.delete(group);
      if (memberships.size === 0) this.userGroups.delete(user);
    }
    for (const conn of this.userConnections(user)) this.leave(conn, group);
  }

  removeUserFromAllGroups(user) {
    this.userGroups.delete(user);
    for (const conn of this.userConnections(user)) {
      for (const group of [...conn.groups]) this.leave(conn, group);
    }
  }

  isUserInGroup(user, group) {
    const memberships = this.userGroups.get(user);
    return (memberships !== undefined && memberships.has(group)) ||
      this.userConnections(user).some((c) => c.groups.has(group));
  }

  expire(now) {
    for (const [user, memberships] of [...this.userGroups]) {
      for (const [group, expiry] of [...memberships]) {
        if (expiry <= now) this.removeUserFromGroup(user, group);
      }
    }
  }
}

class Hubs {
  constructor() {
    this.hubs = new Map();
  }

  // The hub called `name` (already lower-cased), created on first use.
  get(name, now = Date.now()) {
    let hub = this.hubs.get(name);
    if (!hub) {
      hub = new Hub();
      this.hubs.set(name, hub);
    }
    hub.expire(now);
    return hub;
  }

  connections() {
    return [...this.hubs.values()].flatMap((hub) => [...hub.connections.values()]);
  }
}

module.exports = { Hubs, HUB_NAME };

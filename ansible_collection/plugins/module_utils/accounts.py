# Copyright: metis-deploy contributors
# Apache License 2.0 or, at your option, GNU General Public License v3.0+
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later
# (see https://www.apache.org/licenses/LICENSE-2.0 and https://www.gnu.org/licenses/gpl-3.0.txt)
"""User and group names of the managed host, shared by the metis.node modules that set owners."""

from __future__ import annotations

import grp
import pwd


def uid_of(name):
    """The uid of user NAME; ValueError naming it when the host has no such user."""
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        raise ValueError("no user %r on this host" % name) from None


def gid_of(name):
    """The gid of group NAME; ValueError naming it when the host has no such group."""
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise ValueError("no group %r on this host" % name) from None


def user_name(uid):
    """The name of uid, or the number when no user has it."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid):
    """The name of gid, or the number when no group has it."""
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def exists(uid_or_gid_of, name):
    """Whether NAME resolves with uid_of or gid_of."""
    try:
        uid_or_gid_of(name)
        return True
    except ValueError:
        return False

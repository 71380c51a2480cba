from enum import Enum

class RecordMode(str, Enum):
    ALL = "all"
    ANY = "any"
    NEW_EPISODES = "new_episodes"
    NONE = "none"
    ONCE = "once"
